"""Keys, QR payloads, PDF signatures and their verification (no database)."""
