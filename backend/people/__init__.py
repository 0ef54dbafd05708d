"""People who use Wangge: residents, grid staff, centre staff and admins, with their roles."""
