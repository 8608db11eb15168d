"""PDF documents drawn with reportlab, with an embedded (subset) CJK font."""
