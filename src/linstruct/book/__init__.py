"""What the book page needs: the chapter session (start_chapter), figures and glue, explorer widgets."""
