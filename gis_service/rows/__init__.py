"""One row validator for edits, imports and the field form, derived from the model and catalog.

columns.py reads the model (types, lengths, NOT NULL, defaults, CHECK constraints), rules.py
builds a layer's rules document (served to the browser as JSON), check.py applies it the way
web/static/field/rules.js does, messages.py holds the zh/en messages, lookups.py the checks
that need the database (lookup codes, references).
"""
