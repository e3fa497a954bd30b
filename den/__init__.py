"""den service.

Files: folders, metadata, public and private access, signed URLs; bytes in the JetStream object
store.
"""
