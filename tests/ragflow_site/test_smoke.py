def test_ping(api_client, db):
    response = api_client.get("/api/v1/system/ping")
    assert response.status_code == 200
    assert response.content == b"pong"
