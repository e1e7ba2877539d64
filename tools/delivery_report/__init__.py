"""`make delivery-report`: delivery metrics from the deployment record, for people."""
