"""Prosperity indices (景气指数): monthly industry and regional diffusion indices of a market."""
