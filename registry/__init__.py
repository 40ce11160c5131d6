"""The domain of kaseru: houses, certificates, their issues, maintenance plans, inspections,
endorsements, lease applications and the audit trail, with the rules that govern them."""
