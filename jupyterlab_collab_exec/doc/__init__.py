"""The notebook's Y.Doc: the schema of the extension's maps, cells as JupyterLab edits
them, and access to the live rooms."""
