"""Reports read only run folders: terminal tables and a self-contained HTML file."""
