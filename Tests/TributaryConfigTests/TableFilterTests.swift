import Testing
import TributaryConfig
import TributaryCore

@Suite struct TableFilterTests {
    let orders = TableID(schema: "public", name: "orders")
    let ordersArchive = TableID(schema: "public", name: "orders_archive")
    let items = TableID(schema: "inventory", name: "items")

    @Test func listsSplitOnUnescapedCommasAndTrim() {
        #expect(RegexList.split(" public.a , public\\.b ,, ") == ["public.a", "public\\.b"])
        #expect(RegexList.split("a\\,b,c{1\\,3}") == ["a,b", "c{1,3}"])
        #expect(RegexList.split("") == [])
    }

    @Test func regexesMatchTheWholeNameIgnoringCase() throws {
        let list = try RegexList(parsing: "public.orders,inventory\\..*")
        #expect(list.matches("public.orders"))
        #expect(list.matches("PUBLIC.Orders"))
        #expect(!list.matches("public.orders_archive"))
        #expect(!list.matches("xpublic.orders"))
        #expect(list.matches("inventory.items"))
        #expect(!list.matches("inventory"))
        let counted = try RegexList(parsing: "t\\d{1\\,2}")
        #expect(counted.matches("t12"))
        #expect(!counted.matches("t123"))
    }

    @Test func noListsCaptureEverythingButSystemSchemas() {
        let filter = TableFilter.all
        #expect(filter.includes(orders))
        #expect(!filter.includes(TableID(schema: "pg_catalog", name: "pg_class")))
        #expect(!filter.includes(TableID(schema: "information_schema", name: "tables")))
        #expect(filter.includesColumn("secret", of: orders))
        #expect(!filter.filtersColumns)
    }

    @Test func tableIncludeListFromConfiguration() throws {
        let c = try load(overrides: ["table.include.list": "public.orders, inventory.it.*"])
        #expect(c.filter.includes(orders))
        #expect(!c.filter.includes(ordersArchive))
        #expect(c.filter.includes(items))
        #expect(!c.filter.includes(TableID(schema: "inventory", name: "stock")))
    }

    @Test func tableExcludeList() throws {
        let c = try load(overrides: ["table.exclude.list": "public\\.orders_.*"])
        #expect(c.filter.includes(orders))
        #expect(!c.filter.includes(ordersArchive))
        #expect(c.filter.includes(items))
    }

    @Test func schemaAndTableListsCombineWithAnd() throws {
        let c = try load(overrides: ["schema.include.list": "public", "table.exclude.list": "public.orders"])
        #expect(c.filter.includesSchema("public"))
        #expect(!c.filter.includesSchema("inventory"))
        #expect(!c.filter.includes(orders))
        #expect(c.filter.includes(ordersArchive))
        #expect(!c.filter.includes(items))
        let excluded = try load(overrides: ["schema.exclude.list": "inv.*"])
        #expect(excluded.filter.includes(orders))
        #expect(!excluded.filter.includes(items))
    }

    @Test func columnListsMatchSchemaTableColumn() throws {
        let c = try load(overrides: ["column.exclude.list": "public.orders.(card_number|cvv), .*\\.password_hash"])
        #expect(c.filter.filtersColumns)
        #expect(!c.filter.includesColumn("card_number", of: orders))
        #expect(!c.filter.includesColumn("CVV", of: orders))
        #expect(c.filter.includesColumn("card_number", of: ordersArchive))
        #expect(!c.filter.includesColumn("password_hash", of: items))
        #expect(c.filter.includesColumn("id", of: orders))
        let included = try load(overrides: ["column.include.list": "public.orders.id"])
        #expect(included.filter.includesColumn("id", of: orders))
        #expect(!included.filter.includesColumn("total", of: orders))
    }

    @Test func snapshotCollectionList() throws {
        let c = try load(overrides: ["snapshot.include.collection.list": "public.orders"])
        #expect(c.snapshot.includes(orders))
        #expect(!c.snapshot.includes(items))
        #expect(try load().snapshot.includes(items))
    }

    @Test func invalidRegexNamesTheKey() {
        let error = configurationError { try load(overrides: ["table.include.list": "public.(orders"]) }
        #expect(error?.code == .invalidValue)
        #expect(error?.key == "table.include.list")
        #expect(error?.source == .override)
        #expect(error?.message.contains("public.(orders") == true)
    }
}

@Suite struct KeyColumnOverridesTests {
    @Test func parsesDebeziumSyntax() throws {
        let overrides = try KeyColumnOverrides(parsing: "inventory.customers:pk1,pk2; (.*).purchaseorders:pk3 ,pk4;")
        #expect(
            overrides.entries == [
                .init(table: "inventory.customers", columns: ["pk1", "pk2"]),
                .init(table: "(.*).purchaseorders", columns: ["pk3", "pk4"]),
            ]
        )
    }

    @Test func keyColumnsFollowEntryOrderAndMatchWhole() throws {
        let overrides = try KeyColumnOverrides(parsing: "public.orders:tenant_id,id;public.log_.*:seq")
        let orders = TableID(schema: "public", name: "orders")
        #expect(overrides.keyColumns(for: orders, columns: ["id", "total", "tenant_id"]) == ["tenant_id", "id"])
        #expect(
            overrides.keyColumns(for: TableID(schema: "public", name: "LOG_2024"), columns: ["at", "SEQ"]) == ["SEQ"]
        )
        #expect(overrides.keyColumns(for: TableID(schema: "public", name: "orders_archive"), columns: ["id"]) == nil)
        // An entry whose columns match nothing leaves the default key.
        #expect(overrides.keyColumns(for: orders, columns: ["order_id"]) == nil)
    }

    @Test func columnPatternsAreRegexes() throws {
        let overrides = try KeyColumnOverrides(parsing: "public.events:tenant_.*")
        let key = overrides.keyColumns(
            for: TableID(schema: "public", name: "events"),
            columns: ["id", "tenant_region", "tenant_id"]
        )
        #expect(key == ["tenant_region", "tenant_id"])
    }

    @Test func fromConfiguration() throws {
        let c = try load(requiredYAML + "\nmessage.key.columns: public.orders:id\n")
        #expect(c.keyColumns.entries == [.init(table: "public.orders", columns: ["id"])])
    }

    @Test func malformedEntriesNameTheKey() {
        for text in ["public.orders", "public.orders:", ":id", "a:b:c", "public.orders:id,,x", "public.(x:id"] {
            let error = configurationError { try load(overrides: ["message.key.columns": text]) }
            #expect(error?.code == .invalidValue, "\(text)")
            #expect(error?.key == "message.key.columns")
            #expect(error?.source == .override)
        }
    }
}
