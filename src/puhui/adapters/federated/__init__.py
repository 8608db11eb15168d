"""The bank's connection to a data owner over HTTP."""
