"""Run folders: everything a run did, readable without the model (rescore, report, index)."""
