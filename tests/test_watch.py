"""The watch window's loop and keys, driven by synthetic pygame events under the dummy driver."""
import pygame
import pytest

from robonet.envs.experts import KeyboardExpert
from robonet.watch import SPEEDS, ViewerControls, watch


def key(k, kind=pygame.KEYDOWN):
    return pygame.event.Event(kind, key=k)


def test_keys_pause_speed_reset_rays_wheel_and_quit():
    human = KeyboardExpert()
    controls = ViewerControls(human)
    assert controls.speed == 1.0 and not controls.paused
    controls.handle(key(pygame.K_SPACE))
    assert controls.paused
    controls.handle(key(pygame.K_SPACE))
    assert not controls.paused
    controls.handle(key(pygame.K_UP))
    controls.handle(key(pygame.K_UP))
    assert controls.speed == 4.0
    for _ in range(20):
        controls.handle(key(pygame.K_DOWN))
    assert controls.speed == SPEEDS[0]
    controls.handle(key(pygame.K_r))
    controls.handle(key(pygame.K_s))
    assert controls.reset_requested and controls.toggle_rays
    # arrows reach the human only while the person has the wheel
    controls.handle(key(pygame.K_RIGHT))
    assert human.held == []
    controls.handle(key(pygame.K_h))
    controls.handle(key(pygame.K_RIGHT))
    assert controls.wheel and human.action == 1
    controls.handle(key(pygame.K_h))
    assert not controls.wheel and human.held == []
    assert not controls.quit_requested
    controls.handle(key(pygame.K_ESCAPE))
    assert controls.quit_requested


class CountingPolicy:
    """Always pushes left; counts how often it was asked."""

    def __init__(self):
        self.calls = 0

    def __call__(self, obs):
        self.calls += 1
        return 0


def test_taking_the_wheel_in_the_window_drives_the_env(capsys):
    # H then a held right arrow: the person drives CartPole to the right until it falls,
    # and the controller is never asked.
    pygame.display.init()
    pygame.event.post(key(pygame.K_h))
    pygame.event.post(key(pygame.K_UP))  # x2 speed: two steps per frame
    pygame.event.post(key(pygame.K_RIGHT))
    policy = CountingPolicy()
    results = watch(policy, "CartPole-v1", episodes=2, seed=0, max_seconds=30)
    assert len(results) == 2
    assert all(r.length < 100 for r in results)  # always pushing right fails fast
    assert policy.calls == 0


def test_escape_closes_the_window_at_once():
    pygame.display.init()
    pygame.event.post(key(pygame.K_ESCAPE))
    policy = CountingPolicy()
    assert watch(policy, "CartPole-v1", episodes=5, seed=0, max_seconds=30) == []
    assert policy.calls == 0


def test_watch_starts_with_pygame_not_yet_initialised(capsys):
    # A fresh process has no video system yet: the loop must not read events before it has one.
    pygame.display.quit()
    policy = CountingPolicy()
    results = watch(policy, "CartPole-v1", episodes=1, seed=0, max_seconds=30)
    assert len(results) == 1 and policy.calls > 0
