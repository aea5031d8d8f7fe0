"""Figures: the catalogue (`catalogue`: one entry per figure, each in its module of `entries` with its
matplotlib and plotly renderings side by side), the renderings under one name each (`from analysis.figures
import mpl as fm, plotly as fp`), and `overlay`, which blends maps onto images.
Only `overlay` is imported here, so that `import analysis` does not load the figure builders.
"""

from .overlay import Overlays, blend, colorize, normalize_maps, overlay_image, overlay_maps, upsample_maps

__all__ = ["Overlays", "blend", "colorize", "normalize_maps", "overlay_image", "overlay_maps", "upsample_maps"]
