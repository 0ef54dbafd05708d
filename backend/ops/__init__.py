"""Operating a deployment: backups and restores of the database with the data folder."""
