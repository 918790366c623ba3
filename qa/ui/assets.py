"""The page's CSS and scripts (files under static/, loaded with importlib.resources), and the
small event scripts that call into static/ui.js (window.qaUI)."""

from __future__ import annotations

from importlib import resources

__all__ = ["AFTER_ANSWER_JS", "CONFIRM_REMOVE_JS", "CSS", "DOWNLOAD_EXPORT_JS", "THEME_JS", "UI_JS",
           "VIEWER_CSS", "VIEWER_JS"]


def _static(name: str) -> str:
    return resources.files("qa.ui").joinpath("static", name).read_text(encoding="utf-8")


CSS = _static("ui.css")
UI_JS = _static("ui.js")
VIEWER_CSS = _static("viewer.css")
VIEWER_JS = _static("viewer.js")

AFTER_ANSWER_JS = "() => { window.qaUI?.afterAnswer(); }"
CONFIRM_REMOVE_JS = "(source) => window.qaUI ? window.qaUI.confirmRemove(source) : source"
THEME_JS = "() => { window.qaUI?.toggleTheme(); }"
DOWNLOAD_EXPORT_JS = "() => { document.querySelector('#qa-export-file')?.click(); }"
