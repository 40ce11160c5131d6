"""Document templates (Typst) and their rendering: data in, PDF bytes out (no database)."""
