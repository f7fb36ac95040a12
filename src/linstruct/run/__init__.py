"""Running chapters: the `linstruct` command, one chapter execution (papermill), Dask sweeps."""
