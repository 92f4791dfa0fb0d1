"""The Vazirmatn font files (SIL Open Font License 1.1, see OFL.txt) used by every document."""

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
REGULAR = DIRECTORY / "Vazirmatn-Regular.ttf"
BOLD = DIRECTORY / "Vazirmatn-Bold.ttf"
