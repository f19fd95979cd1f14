"""gg-workbench: the command line that shows, runs and measures the migration."""
