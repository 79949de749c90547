"""pygame drawing of the obstacle-avoidance robot: arena, obstacles, waypoints, rays, HUD.

pygame is imported when the first :class:`Renderer` is built, never at module import, and
only the display and font subsystems are initialised (``pygame.init()`` would also start
audio, which fails on headless machines). ``rgb_array`` draws off-screen and works under
``SDL_VIDEODRIVER=dummy``; ``human`` opens a window and waits to keep ``render_fps``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .obstacle_avoidance import RobotBatch, RobotConfig
from . import geometry

BACKGROUND = (245, 245, 240)
WALL = (60, 60, 70)
OBSTACLE = (120, 125, 135)
ROBOT = (40, 100, 220)
ROBOT_CRASHED = (220, 40, 40)
HEADING = (255, 255, 255)
GOAL = (40, 170, 80)
NEXT_GOAL = (170, 215, 180)
TEXT = (20, 20, 20)
HUD_BOX = (255, 255, 255, 200)
NEAR, FAR = np.array([230.0, 40.0, 40.0]), np.array([60.0, 190.0, 60.0])


def ray_color(reading: float) -> tuple[int, int, int]:
    """Red for an obstacle at the robot, green at full range: linear in the reading in [0, 1]."""
    t = float(np.clip(reading, 0.0, 1.0))
    return tuple(int(round(c)) for c in NEAR + t * (FAR - NEAR))


def format_hud_value(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


class Renderer:
    """Draws one robot of a :class:`RobotBatch` in a square view of ``size`` pixels."""

    def __init__(self, config: RobotConfig, render_mode: str, render_fps: int, size: int = 600):
        import pygame  # lazy: headless users of the env never need it

        if render_mode not in ("human", "rgb_array"):
            raise ValueError(f"render_mode must be 'human' or 'rgb_array', got {render_mode!r}")
        self.pygame = pygame
        self.config = config
        self.render_mode = render_mode
        self.render_fps = render_fps
        self.size = size
        self.scale = (size - 20) / max(config.width, config.height)  # 10 px margin
        self._ensure_init()
        self.window = None
        if render_mode == "human":
            self.window = pygame.display.set_mode((size, size))
            pygame.display.set_caption("robonet: obstacle avoidance")
        self.surface = pygame.Surface((size, size))
        self.clock = pygame.time.Clock()
        self.font = pygame.font.Font(None, 20)

    def _ensure_init(self) -> None:
        # Another window closing may have shut pygame down; bring back only what we use.
        if not self.pygame.display.get_init():
            self.pygame.display.init()
        if not self.pygame.font.get_init():
            self.pygame.font.init()

    def to_px(self, xy: np.ndarray) -> tuple[int, int]:
        """World metres -> pixel coordinates (y up in the world, down on screen)."""
        x = 10 + xy[0] * self.scale
        y = self.size - 10 - xy[1] * self.scale
        return int(round(x)), int(round(y))

    def render(self, robots: RobotBatch, i: int, show_rays: bool = True, hud: dict | None = None):
        """Draw robot ``i``; returns an (H, W, 3) uint8 array (``rgb_array``) or None (``human``)."""
        pg = self.pygame
        self._ensure_init()
        cfg, s, surf = self.config, self.scale, self.surface
        surf.fill(BACKGROUND)
        pg.draw.rect(surf, WALL, pg.Rect(self.to_px((0, cfg.height)), (round(cfg.width * s), round(cfg.height * s))), 3)
        for c, r in zip(robots.centers[i], robots.radii[i]):
            if r > 0:
                pg.draw.circle(surf, OBSTACLE, self.to_px(c), max(1, round(r * s)))
        g = int(robots.goal_index[i])
        nxt = robots.waypoints[i, (g + 1) % cfg.n_waypoints]
        pg.draw.circle(surf, NEXT_GOAL, self.to_px(nxt), max(2, round(cfg.waypoint_radius * s)), 2)
        pg.draw.circle(surf, GOAL, self.to_px(robots.waypoints[i, g]), max(2, round(cfg.waypoint_radius * s)))

        pos, heading = robots.position[i], float(robots.heading[i])
        if show_rays:
            readings = geometry.cast_rays(
                robots.position[i : i + 1], robots.heading[i : i + 1], robots.ray_angles,
                robots.centers[i : i + 1], robots.radii[i : i + 1], cfg.width, cfg.height, cfg.sensor_range,
            )[0]
            for angle, reading in zip(robots.ray_angles, readings):
                end = pos + reading * cfg.sensor_range * np.array([np.cos(heading + angle), np.sin(heading + angle)])
                pg.draw.line(surf, ray_color(reading), self.to_px(pos), self.to_px(end), 2)
                if reading < 1.0:
                    pg.draw.circle(surf, ray_color(reading), self.to_px(end), 3)
        color = ROBOT_CRASHED if robots.collision[i] else ROBOT
        pg.draw.circle(surf, color, self.to_px(pos), max(3, round(cfg.robot_radius * s)))
        tip = pos + cfg.robot_radius * np.array([np.cos(heading), np.sin(heading)])
        pg.draw.line(surf, HEADING, self.to_px(pos), self.to_px(tip), 3)

        hud = hud or {}
        lines = [f"{k}: {format_hud_value(v)}" for k, v in hud.items()]
        status = "" if "step" in hud else f"step {int(robots.steps[i])}  "  # a controller's HUD has its own
        lines.append(
            f"{status}waypoints {int(robots.waypoints_reached[i])}  distance {float(robots.distance[i]):.1f} m"
        )
        self._draw_hud(lines)

        if self.render_mode == "human":
            pg.event.pump()
            self.window.blit(surf, (0, 0))
            pg.display.flip()
            self.clock.tick(self.render_fps)
            return None
        return np.ascontiguousarray(np.transpose(pg.surfarray.array3d(surf), (1, 0, 2)), dtype=np.uint8)

    def _draw_hud(self, lines: list[str]) -> None:
        pg = self.pygame
        rendered = [self.font.render(line, True, TEXT) for line in lines]
        width = max(r.get_width() for r in rendered) + 12
        height = sum(r.get_height() for r in rendered) + 8
        box = pg.Surface((width, height), pg.SRCALPHA)
        box.fill(HUD_BOX)
        self.surface.blit(box, (14, 14))
        y = 18
        for r in rendered:
            self.surface.blit(r, (20, y))
            y += r.get_height()

    def close(self) -> None:
        """Close the window (if any); safe to call more than once."""
        if self.window is not None:
            self.pygame.display.quit()
            self.window = None
