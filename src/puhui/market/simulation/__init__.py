"""The stages that simulate one chunk of enterprise slots, one module per concern."""
