"""Plan targets and progress reports (issue #12): the fixed list of indicators (`indicators`), what a
report holds (`model`), how figures are computed from the records and the history (`progress`), plans
read from YAML or XLSX files (`plans`), and the report's Excel and CSV files (`files`)."""
