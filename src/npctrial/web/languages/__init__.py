"""Language of the EDC: English or Simplified Chinese, from the browser or the user's saved choice."""
