"""Released notebooks in the form JupyterLab 4 saves, so that opening one does not mark it modified.

On connecting to its kernel JupyterLab sets the notebook's ``language_info`` metadata to the
kernel's own, and any difference marks the notebook modified before the student typed
anything. nbgrader writes only ``{"name": "python"}``; the release writes what the course's
kernel (ipykernel on this Python) reports, through nbformat as the Jupyter server saves.
"""
from pathlib import Path


def kernel_language_info():
    """The ``language_info`` (dict) the course's kernel reports to JupyterLab.

    Its ``version`` is this Python's, e.g. "3.11.7": a kernel on another patch release still
    marks the notebook modified on opening, harmlessly.
    """
    from ipykernel.ipkernel import IPythonKernel
    return dict(IPythonKernel.language_info)


def as_jupyterlab_saves(path):
    """Rewrite the notebook at `path` (str or Path) as JupyterLab would save it unchanged."""
    import nbformat
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    nb.metadata["language_info"] = kernel_language_info()
    nbformat.write(nb, path)
