"""One module per platform component, each exposing `COMPONENT` (see `platform.component`)."""
