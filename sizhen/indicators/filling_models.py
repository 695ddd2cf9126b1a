"""Models of periodic filling (定期填报); imported by models.py so Django registers them."""
