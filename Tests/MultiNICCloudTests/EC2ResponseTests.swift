@testable import MultiNICCloud
import Testing

/// The EC2 Query API's XML answers, read without an XML library (or Foundation): elements in order, entities decoded once.
@Suite struct EC2ResponseTests {
    @Test func elementsAreFoundInOrderWithTheirEntitiesDecoded() {
        let xml = """
            <DescribeNetworkInterfacesResponse><item><privateIpAddress>10.0.0.5</privateIpAddress></item>
            <item><privateIpAddress>10.0.0.6</privateIpAddress><description>a &lt;b&gt; &quot;c&quot; &apos;d&apos; &amp;lt;</description></item>
            </DescribeNetworkInterfacesResponse>
            """
        #expect(EC2Client.elements("privateIpAddress", in: xml) == ["10.0.0.5", "10.0.0.6"])
        // `&amp;lt;` is the text "&lt;", not "<": `&amp;` is decoded last.
        #expect(EC2Client.element("description", in: xml) == #"a <b> "c" 'd' &lt;"#)
        #expect(EC2Client.element("missing", in: xml) == nil)
        #expect(EC2Client.elements("privateIpAddress", in: "<privateIpAddress>unclosed") == [])
    }
}
