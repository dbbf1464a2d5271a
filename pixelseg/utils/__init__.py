"""Helpers every stage may use; they import nothing of pixelseg above them.

:mod:`~pixelseg.utils.atomic` (atomic writes, never an unasked overwrite),
:mod:`~pixelseg.utils.lazy` (lazy package exports), :mod:`~pixelseg.utils.extras` (the
install hint when an optional extra is missing), :mod:`~pixelseg.utils.sizes` (the one "H x W" parser) and
:mod:`~pixelseg.utils.yamlfile` (reading a user's YAML), :mod:`~pixelseg.utils.text` (UTF-8
text files), :mod:`~pixelseg.utils.pixel_limit` (the decompression-bomb limit). Import from
the modules.
"""

__all__: list[str] = []
