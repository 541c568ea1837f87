"""REFI-QDA exchange: ``.qdpx`` projects and ``.qdc`` codebooks (the open standard of MAXQDA, ATLAS.ti,
NVivo and QualCoder), read and written with lxml.

Three parts, each testable on its own: :mod:`._archive` reads an untrusted archive within limits and checks
its namespace; :mod:`._mapping` maps positions (BOM, CRLF counted as one or two characters, decomposed
umlauts) and codes onto qualkit's terms; :mod:`._importing` writes that into the store in one transaction
and :mod:`._export` writes projects and codebooks.  Import accepts what real tools write (see
``../shared/refi-qda/SOURCE.md``); what cannot be mapped (PDF, audio, picture sources; selections outside
the text) is reported, never silently dropped.
"""

from ._archive import Archive, Limits
from ._export import export_codebook, export_qdpx, validate_qde
from ._importing import ImportReport, import_codebook, import_qdpx
from ._mapping import Content, _normalise_with_map, read_content

__all__ = ["Archive", "Content", "ImportReport", "Limits", "_normalise_with_map", "export_codebook", "export_qdpx",
           "import_codebook", "import_qdpx", "read_content", "validate_qde"]
