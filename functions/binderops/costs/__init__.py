"""Cost export: daily net cloud cost from the billing export and members' invoices, published."""
