"""Reading a source into issues: find the files, read front matter and dates, clean the text, and split it into
sections at its headings, each with its anchor and deep link."""
