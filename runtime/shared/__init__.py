"""Code that both function packages use. It sits at the root of both assets, beside `cart` or `products`,
so it is imported absolutely: `from shared.cors import ...`."""
