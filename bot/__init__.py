"""The conversation: commands/ (the transport-free command layer, one module per feature),
ui/ (how replies look), files/ (pictures and CSVs out, history exports in), telegram/ (the
Telegram adapter), console.py (the same conversation in a terminal) and service.py (the
catalog and model facade). README.md, "Layout", says where things go."""
