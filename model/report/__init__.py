"""The board report: one self-contained HTML file to print (and its PDF), from a run folder."""
