"""ipywidgets: each kernel's models, mirrored into `collab_widgets` and the saved widget
state."""
