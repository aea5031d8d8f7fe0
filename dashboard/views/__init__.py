"""One module per view of the dashboard; each exposes `render(selection)`."""
