"""Buildings: footprints with their address, floors, households and grid."""
