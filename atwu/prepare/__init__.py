"""Building a benchmark directory: data, tokenizer, memorising models, quality report."""
