"""Stage 1, the crawl: Scrapy fetches the site once (``spider``), pulls links and text out of every
response (``extract``) and yields items that the item pipeline commits to the store (``pipeline``)."""
