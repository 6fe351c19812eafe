"""One module per screen of the flow."""
