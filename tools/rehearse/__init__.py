"""`make rehearse`: a release synthesized from its manifest as the pipeline does, and what would ship."""
