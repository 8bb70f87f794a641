"""Files in and out: the pictures (charts.py, pictures.py) and CSVs (history_export.py) a reply
asks for, and the IMDb or Letterboxd exports people send (history_import.py)."""
