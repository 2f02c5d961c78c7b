DROP TABLE promotions, quantity_breaks, customer_prices, price_groups, product_prices, price_types,
    stock, warehouses, product_files, product_images, product_barcodes, products, attributes, categories;
DROP FUNCTION stock_sync();
