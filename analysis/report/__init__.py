"""Report: `python -m analysis report` writes every figure and data file of a set of images and an index.html.

`inputs` gathers the images (a folder or a dataset), `build` writes the report (`run_report`), `index`
its index.html, `cli` the subcommand; `model_details` turns a checkpoint's metadata into readable tables.
Nothing is imported here: `build` pulls in the faithfulness checks (scipy), which the dashboard, reading
only `model_details` at launch, should not pay for.
"""
