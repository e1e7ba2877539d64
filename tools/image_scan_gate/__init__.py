"""The release's image scan gate (Property 3), run by the pipeline as `python -m tools.image_scan_gate`."""
