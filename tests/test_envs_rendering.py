"""Headless pygame: rgb_array frames show the robot; posted key events drive the KeyboardExpert."""
import gymnasium as gym
import numpy as np
import pytest

import robonet.envs
from robonet.envs import rendering
from robonet.envs.experts import KeyboardExpert, get_expert

ENV_ID = robonet.envs.ENV_ID


def _robot_pixels(frame, colour=rendering.ROBOT):
    """(row, col) of every pixel painted in the robot's colour."""
    return np.argwhere(np.all(frame == np.array(colour, dtype=np.uint8), axis=-1))


def test_rgb_array_frame_shows_the_robot_where_it_is_and_follows_it():
    env = gym.make(ENV_ID, render_mode="rgb_array")
    env.reset(seed=3)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 5  # not blank
    robot = env.unwrapped.robots
    renderer = env.unwrapped._renderer
    pixels = _robot_pixels(frame)
    assert len(pixels) > 20  # the disc (radius 0.15 m ~ 11 px), less the heading mark
    col, row = renderer.to_px(robot.position[0])
    assert np.abs(pixels.mean(axis=0) - [row, col]).max() < 4  # centred on the robot's position
    expert = get_expert(ENV_ID)
    obs = env.unwrapped.robots.observe()[0]
    for _ in range(20):
        obs, _, terminated, _, _ = env.step(expert(obs))
    assert not terminated
    moved = env.render()
    assert not np.array_equal(frame, moved)
    col2, row2 = renderer.to_px(robot.position[0])
    assert (col2, row2) != (col, row)
    assert np.abs(_robot_pixels(moved).mean(axis=0) - [row2, col2]).max() < 4
    env.close()


def test_crashed_robot_is_drawn_in_the_crash_colour():
    env = gym.make(ENV_ID, render_mode="rgb_array")
    env.reset(seed=1, options={"n_obstacles": 0})
    env.unwrapped.robots.position[0] = [0.17, 4.0]
    env.unwrapped.robots.heading[0] = np.pi
    _, _, terminated, _, _ = env.step(0)
    assert terminated
    frame = env.render()
    assert len(_robot_pixels(frame, rendering.ROBOT_CRASHED)) > 20
    assert len(_robot_pixels(frame)) == 0
    env.close()


def test_hud_fields_and_ray_toggle_change_the_frame():
    env = gym.make(ENV_ID, render_mode="rgb_array")
    env.reset(seed=2)
    plain = env.render()
    env.unwrapped.set_hud(action="steer_left", probability=0.93, step=0, ret=0.0)
    with_hud = env.render()
    assert not np.array_equal(plain, with_hud)
    env.unwrapped.set_hud()
    np.testing.assert_array_equal(env.render(), plain)
    env.unwrapped.show_rays = False
    assert not np.array_equal(env.render(), plain)
    env.close()


def test_human_mode_returns_none_under_the_dummy_driver():
    env = gym.make(ENV_ID, render_mode="human")
    env.reset(seed=0)  # renders
    assert env.render() is None
    env.step(1)
    env.close()
    env.close()


def test_ray_colour_goes_from_red_near_to_green_far():
    assert rendering.ray_color(0.0) == (230, 40, 40)
    assert rendering.ray_color(1.0) == (60, 190, 60)
    assert rendering.ray_color(2.0) == rendering.ray_color(1.0)


@pytest.fixture
def pygame_display():
    pygame = pytest.importorskip("pygame")
    pygame.display.init()
    pygame.display.set_mode((64, 64))
    pygame.event.clear()
    yield pygame
    pygame.display.quit()


def _post(pygame, kind, key):
    pygame.event.post(pygame.event.Event(kind, key=key))


def test_posted_key_events_drive_the_keyboard_expert(pygame_display):
    pygame = pygame_display
    human = get_expert(ENV_ID, kind="keyboard")
    assert isinstance(human, KeyboardExpert)
    obs = np.zeros(9)
    # no arrow held: alternate, i.e. roughly straight ahead
    assert [human(obs) for _ in range(4)] == [0, 1, 0, 1]
    _post(pygame, pygame.KEYDOWN, pygame.K_LEFT)
    human.poll()
    assert [human(obs) for _ in range(3)] == [0, 0, 0]
    _post(pygame, pygame.KEYDOWN, pygame.K_RIGHT)  # both held: the last pressed wins
    human.poll()
    assert human(obs) == 1
    _post(pygame, pygame.KEYUP, pygame.K_RIGHT)
    human.poll()
    assert human(obs) == 0
    assert human.batch(np.zeros((3, 9))).tolist() == [0, 0, 0]
    _post(pygame, pygame.KEYDOWN, pygame.K_SPACE)
    human.poll()
    assert human.paused
    _post(pygame, pygame.KEYDOWN, pygame.K_SPACE)
    human.poll()
    assert not human.paused
    assert not human.quit_requested
    _post(pygame, pygame.KEYDOWN, pygame.K_ESCAPE)
    human.poll()
    assert human.quit_requested


def test_keyboard_expert_steers_the_robot_in_a_window(pygame_display):
    """Right arrow held for 20 steps turns the robot clockwise by 20 x 0.15 rad."""
    pygame = pygame_display
    env = gym.make(ENV_ID, render_mode="human")
    obs, _ = env.reset(seed=0, options={"n_obstacles": 0})
    human = KeyboardExpert()
    heading = float(env.unwrapped.robots.heading[0])
    _post(pygame, pygame.KEYDOWN, pygame.K_RIGHT)
    for _ in range(20):
        human.poll()  # the window's event queue, as watch/collect read it
        obs, *_ = env.step(human(obs))
    turned = (float(env.unwrapped.robots.heading[0]) - heading + np.pi) % (2 * np.pi) - np.pi
    assert turned == pytest.approx(-20 * 0.15)
    env.close()
