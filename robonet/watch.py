"""``robonet watch``: the simulation loop. The controller drives; you watch, or take the wheel.

The env renders ``rgb_array`` frames and robonet blits them into its own pygame window, so
the simulation speed is ours to choose (the env's own clock would pin it to render_fps).
The HUD (action, its probability, step, return) is drawn by the robot's renderer via
``env.unwrapped.set_hud``; for envs without one (CartPole) robonet draws it over the frame.

Keys: Space/P pause, Up/Down (or +/-) speed x2 / x0.5, R reset the episode, S toggle sensor
rays, H take the wheel (arrow keys steer, the KeyboardExpert) and give it back, Esc/Q quit.

``--record FILE.gif`` renders off-screen (no window, works headless) and writes an animated
GIF with Pillow.
"""
from __future__ import annotations

import argparse
import functools
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from robonet.argtypes import seed_arg
from robonet.collect import EpisodeData, EpisodeResult, episode_seed, make_env

HELP = "watch a controller drive in a pygame window (or --record an animated GIF, headless)"
DESCRIPTION = (
    "The trained controller drives the env in a pygame window at the env's render_fps, with a HUD "
    "(action, probability, step, return). Keys: Space/P pause, Up/Down speed, R reset, S sensor rays, "
    "H take the wheel (arrow keys), Esc/Q quit. --record FILE.gif writes an animated GIF instead, "
    "without a window."
)

SPEEDS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
KEYS_HELP = "Space pause  Up/Down speed  R reset  S rays  H take the wheel  Esc quit"


def display_available() -> bool:
    """True if a pygame window can be shown to a person (not the dummy driver, a display is set)."""
    if os.environ.get("SDL_VIDEODRIVER", "").lower() in ("dummy", "offscreen"):
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or os.name == "nt"


def _quiet_pygame(headless: bool) -> None:
    """Environment for pygame, set before its first import: no banner, no sound device (CartPole's
    renderer calls pygame.init(), which opens audio too), and the dummy video driver off-screen."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    if headless and not display_available():
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


class Hud:
    """Draws the HUD: through the robot's own renderer when it has one, else over the frame."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.native = hasattr(env.unwrapped, "set_hud")
        self._font = None

    def update(self, **fields: Any) -> None:
        if self.native:
            self.env.unwrapped.set_hud(**fields)
        self.fields = fields

    def overlay(self, surface: Any) -> None:
        """Draw the fields onto a pygame surface (for envs without a native HUD)."""
        if self.native:
            return
        import pygame

        if self._font is None:
            pygame.font.init()
            self._font = pygame.font.Font(None, 22)
        y = 6
        for key, value in self.fields.items():
            if isinstance(value, float):
                value = f"{value:.2f}" if key != "episode_return" else f"{value:.0f}"
            text = self._font.render(f"{key.replace('_', ' ')}: {value}", True, (20, 20, 20))
            surface.blit(text, (8, y))
            y += text.get_height() + 2


def _hud_fields(policy: Any, obs: np.ndarray, action: int, step: int, total: float, driver: str) -> dict:
    fields: dict[str, Any] = {"action": action}
    names = getattr(policy, "action_names", None)
    if names:
        fields["action"] = f"{action} {names[action]}"
    if hasattr(policy, "predict_proba"):
        fields["probability"] = float(policy.predict_proba(obs)[action])
    fields.update(step=step, episode_return=float(total), driver=driver)
    return fields


def _frame_with_hud(env: Any, hud: Hud, scale: float = 1.0) -> np.ndarray:
    frame = np.asarray(env.render())
    if hud.native and scale == 1.0:
        return frame
    import pygame

    surface = pygame.surfarray.make_surface(np.ascontiguousarray(frame.swapaxes(0, 1)))
    hud.overlay(surface)
    if scale != 1.0:
        size = (max(1, int(surface.get_width() * scale)), max(1, int(surface.get_height() * scale)))
        surface = pygame.transform.smoothscale(surface, size)
    return pygame.surfarray.array3d(surface).swapaxes(0, 1)


def write_gif(frames: list[np.ndarray], path: str | os.PathLike, fps: float) -> Path:
    """Write RGB frames (H, W, 3) uint8 as an animated GIF (atomic: temp file, then rename)."""
    from PIL import Image

    if not frames:
        raise ValueError("no frames to write")
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"--record needs a .gif file name, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
              for f in frames]
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(20, int(round(1000 / fps))), loop=0, optimize=True)
    os.replace(tmp, path)
    return path


def record(
    policy: Any,
    env_id: str,
    path: str | os.PathLike,
    *,
    episodes: int = 1,
    seed: int = 0,
    max_frames: int = 300,
    every: int = 2,
    scale: float = 1.0,
) -> tuple[Path, list[EpisodeResult]]:
    """Drive ``episodes`` seeded episodes off-screen and write every ``every``-th frame to a GIF.

    At most ``max_frames`` frames are kept (the episodes are still run to the end, so the
    returned results are complete). Works without a display.
    """
    if every < 1 or max_frames < 1:
        raise ValueError(f"--every and --max-frames must be >= 1, got {every} and {max_frames}")
    if Path(path).suffix.lower() != ".gif":
        raise ValueError(f"--record needs a .gif file name, got {path}")
    from robonet.progress import progress

    _quiet_pygame(headless=True)
    env = make_env(env_id, render_mode="rgb_array")
    _check_policy_env(policy, env, env_id)
    hud = Hud(env)
    frames: list[np.ndarray] = []
    results = []
    # Drawing the frames is the slow part (the episodes run on after the last frame is kept).
    bar = progress(max_frames, desc=f"record {Path(path).name}", unit="frame")
    try:
        for i in range(episodes):
            env_seed = episode_seed(seed, i)
            obs, info = env.reset(seed=env_seed)
            total, step, done = 0.0, 0, False
            while not done:
                action = int(policy(obs))
                if len(frames) < max_frames and step % every == 0:
                    hud.update(**_hud_fields(policy, obs, action, step, total, "controller"))
                    frames.append(_frame_with_hud(env, hud, scale))
                    bar.update(1)
                obs, reward, terminated, truncated, info = env.step(action)
                total += float(reward)
                step += 1
                done = terminated or truncated
            results.append(EpisodeResult(i, env_seed, total, step, bool(terminated),
                                         info.get("collision"), info.get("distance")))
        fps = env.metadata.get("render_fps", 30) / every
        bar.total = len(frames)  # short episodes end before max_frames
        bar.set_postfix_str("writing the GIF")
        return write_gif(frames, path, fps), results
    finally:
        bar.close()
        env.close()


def _check_policy_env(policy: Any, env: Any, env_id: str) -> None:
    if hasattr(policy, "check_env"):
        try:
            policy.check_env(env_id, int(np.prod(env.observation_space.shape)))
        except BaseException:
            env.close()
            raise


STATUS_HEIGHT = 22  # pixels under the frame for the speed and keys line


def _start_display() -> None:
    """Before a window loop: the event queue is read before the first frame opens the window,
    and a status font from an earlier window died with its pygame.quit() (CartPole's close)."""
    import pygame

    pygame.display.init()
    _status_font.cache_clear()


def _open_window(frame: np.ndarray, title: str):
    import pygame

    pygame.display.init()
    pygame.font.init()
    pygame.display.set_caption(title)
    return pygame.display.set_mode((frame.shape[1], frame.shape[0] + STATUS_HEIGHT))


@functools.lru_cache(maxsize=1)
def _status_font():
    import pygame

    return pygame.font.Font(None, 18)  # loading a font each frame would cost more than the frame


def _blit(screen: Any, frame: np.ndarray, status: str) -> None:
    import pygame

    surface = pygame.surfarray.make_surface(np.ascontiguousarray(frame.swapaxes(0, 1)))
    width, height = screen.get_width(), screen.get_height() - STATUS_HEIGHT
    if surface.get_size() != (width, height):
        surface = pygame.transform.smoothscale(surface, (width, height))
    screen.blit(surface, (0, 0))
    # The status line has a strip of its own below the frame, clear of the arena's walls.
    screen.fill((235, 235, 235), (0, height, width, STATUS_HEIGHT))
    text = _status_font().render(status, True, (40, 40, 40))
    screen.blit(text, (6, height + (STATUS_HEIGHT - text.get_height()) // 2))
    pygame.display.flip()


class ViewerControls:
    """The watch window's keys, one pygame event at a time (kept apart from the loop so that
    tests can drive it with synthetic events).

    Space/P pause, Up/Down (or +/-) speed x2 / x0.5, R reset the episode, S toggle the sensor
    rays, H take the wheel and give it back, Esc/Q or closing the window quit. While the person
    has the wheel, every event also goes to ``human`` (a KeyboardExpert: the arrows steer).
    """

    def __init__(self, human: Any) -> None:
        self.human = human
        self.paused = False
        self.wheel = False
        self.quit_requested = False
        self.reset_requested = False
        self.toggle_rays = False
        self.speed_index = SPEEDS.index(1.0)

    @property
    def speed(self) -> float:
        """Simulation speed relative to the env's render_fps."""
        return SPEEDS[self.speed_index]

    def handle(self, event: Any) -> None:
        import pygame

        if self.wheel:
            self.human.handle_event(event)
        if event.type == pygame.QUIT:
            self.quit_requested = True
        if event.type != pygame.KEYDOWN:
            return
        key = event.key
        if key in (pygame.K_ESCAPE, pygame.K_q):
            self.quit_requested = True
        elif key in (pygame.K_SPACE, pygame.K_p):
            self.paused = not self.paused
        elif key in (pygame.K_UP, pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)
        elif key in (pygame.K_DOWN, pygame.K_MINUS, pygame.K_KP_MINUS):
            self.speed_index = max(self.speed_index - 1, 0)
        elif key == pygame.K_r:
            self.reset_requested = True
        elif key == pygame.K_s:
            self.toggle_rays = True
        elif key == pygame.K_h:
            self.wheel = not self.wheel
            if hasattr(self.human, "held"):
                self.human.held.clear()  # no arrow stays "held" across a hand-over


def watch(
    policy: Any,
    env_id: str,
    *,
    episodes: int = 3,
    seed: int = 0,
    max_seconds: float | None = None,
    human: Any = None,
) -> list[EpisodeResult]:
    """The interactive loop: ``policy`` drives ``episodes`` episodes in a pygame window."""
    import time

    _quiet_pygame(headless=False)
    import pygame

    from robonet.envs.experts import KeyboardExpert

    _start_display()

    env = make_env(env_id, render_mode="rgb_array")
    _check_policy_env(policy, env, env_id)
    hud = Hud(env)
    human = human or KeyboardExpert()
    fps = float(env.metadata.get("render_fps", 30))
    controls = ViewerControls(human)
    results: list[EpisodeResult] = []
    started = time.monotonic()
    try:
        obs, info = env.reset(seed=episode_seed(seed, 0))
        screen = None
        clock = pygame.time.Clock()
        i, total, step = 0, 0.0, 0
        while i < episodes:
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
            for event in pygame.event.get():
                controls.handle(event)
            if controls.quit_requested:
                break
            if controls.reset_requested:
                controls.reset_requested = False
                obs, info = env.reset(seed=episode_seed(seed, i))
                total, step = 0.0, 0
            if controls.toggle_rays:
                controls.toggle_rays = False
                if hasattr(env.unwrapped, "show_rays"):
                    env.unwrapped.show_rays = not env.unwrapped.show_rays
            paused, wheel = controls.paused, controls.wheel
            speed = controls.speed
            steps_per_frame = max(1, int(speed))
            if not paused:
                for _ in range(steps_per_frame):
                    action = int(human(obs) if wheel else policy(obs))
                    obs, reward, terminated, truncated, info = env.step(action)
                    total += float(reward)
                    step += 1
                    if terminated or truncated:
                        results.append(EpisodeResult(i, episode_seed(seed, i), total, step, bool(terminated),
                                                     info.get("collision"), info.get("distance")))
                        print(f"episode {i}: return {total:.1f}, {step} steps"
                              + (", collision" if info.get("collision") else ""))
                        i += 1
                        total, step = 0.0, 0
                        obs, info = env.reset(seed=episode_seed(seed, i))
                        break
            shown = int(human.action) if wheel else int(policy(obs))
            hud.update(**_hud_fields(policy if not wheel else human, obs, shown, step, total,
                                     "you" if wheel else "controller"))
            frame = _frame_with_hud(env, hud)
            if screen is None:
                screen = _open_window(frame, f"robonet watch: {env_id}")
            status = f"speed x{speed:g}{'  PAUSED' if paused else ''}   {KEYS_HELP}"
            _blit(screen, frame, status)
            clock.tick(fps * speed / steps_per_frame)
    finally:
        env.close()
        pygame.display.quit()
    return results


def drive_human(
    env_id: str,
    expert: Any,
    episodes: int,
    seed: int,
    *,
    first_episode: int = 0,
    on_episode: Callable[[EpisodeResult, EpisodeData], None] | None = None,
) -> list[EpisodeResult]:
    """Keyboard teleoperation for ``robonet collect --expert human``: you drive, robonet logs.

    Arrow keys steer, Space pauses, Esc stops (the episode in progress is dropped).
    """
    _quiet_pygame(headless=False)
    import pygame

    if not display_available():
        raise ValueError("--expert human needs a display (set DISPLAY, or use --expert scripted)")
    _start_display()
    env = make_env(env_id, render_mode="rgb_array")
    hud = Hud(env)
    fps = float(env.metadata.get("render_fps", 30))
    results: list[EpisodeResult] = []
    try:
        clock = pygame.time.Clock()
        screen = None
        for k in range(episodes):
            episode_id = first_episode + k
            env_seed = episode_seed(seed, episode_id)
            obs, info = env.reset(seed=env_seed)
            observations, actions, rewards = [], [], []
            total, done = 0.0, False
            while not done:
                for event in pygame.event.get():
                    expert.handle_event(event)
                if expert.quit_requested:
                    return results
                if not expert.paused:
                    action = int(expert(obs))
                    observations.append(obs)
                    actions.append(action)
                    obs, reward, terminated, truncated, info = env.step(action)
                    rewards.append(reward)
                    total += float(reward)
                    done = terminated or truncated
                hud.update(action=int(expert.action), step=len(actions), episode_return=total,
                           driver=f"you (episode {k + 1}/{episodes})")
                frame = _frame_with_hud(env, hud)
                if screen is None:
                    screen = _open_window(frame, f"robonet collect: {env_id} (arrows steer, Space pause, Esc stop)")
                _blit(screen, frame, "arrows steer  Space pause  Esc stop" + ("  PAUSED" if expert.paused else ""))
                clock.tick(fps)
            result = EpisodeResult(episode_id, env_seed, total, len(actions), bool(terminated),
                                   info.get("collision"), info.get("distance"))
            results.append(result)
            if on_episode is not None:
                on_episode(result, EpisodeData(np.asarray(observations, dtype=np.float32), np.asarray(actions),
                                               np.asarray(actions), np.asarray(rewards, dtype=np.float32)))
    finally:
        env.close()
        pygame.display.quit()
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="MODEL", help="controller file written by robonet train")
    parser.add_argument("--env", metavar="ID", default=None, help="env id (default: the env the model was trained on)")
    parser.add_argument("--episodes", type=int, default=3, metavar="N", help="episodes to drive")
    parser.add_argument("--seed", type=seed_arg, default=1, metavar="S", help="base seed; episode i uses a seed derived from (S, i)")
    parser.add_argument("--record", metavar="FILE.gif", default=None,
                        help="write an animated GIF instead of opening a window (works headless)")
    parser.add_argument("--max-frames", type=int, default=300, metavar="F", help="with --record: keep at most F frames")
    parser.add_argument("--every", type=int, default=2, metavar="K", help="with --record: keep every K-th frame")


def run(args: argparse.Namespace) -> int:
    from robonet.controller import load_controller

    if args.episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {args.episodes}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    controller = load_controller(args.model)
    env_id = args.env or controller.env_id
    if args.record:
        path, results = record(controller, env_id, args.record, episodes=args.episodes, seed=args.seed,
                               max_frames=args.max_frames, every=args.every)
        returns = ", ".join(f"{r.episode_return:.0f}" for r in results)
        print(f"recorded {path} ({len(results)} episodes, returns {returns})")
        return 0
    if not display_available():
        raise ValueError("no display to open a window on (DISPLAY is not set or SDL_VIDEODRIVER is dummy); "
                         "use --record FILE.gif to watch headless")
    watch(controller, env_id, episodes=args.episodes, seed=args.seed)
    return 0
