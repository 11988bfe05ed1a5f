"""What analysts read: queries, status, the HTML report and the rendering of tables."""
