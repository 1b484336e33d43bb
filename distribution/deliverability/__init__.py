"""What became of mail after it left: bounces and complaints mailed back (`mailed_back`
reads them, `record` applies them, `inbox` fetches them) and each recipient's outcome."""
