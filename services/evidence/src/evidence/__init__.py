"""The evidence service: stores complaint evidence in a private bucket and answers integrity receipts."""
