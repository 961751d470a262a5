"""Uploaded documents: recognised by content, stored by generated key, downloaded as attachments."""
