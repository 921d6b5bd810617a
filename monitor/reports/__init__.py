"""Reports: response-time aggregates, ratings, CSV/XLSX/JSON exports."""
